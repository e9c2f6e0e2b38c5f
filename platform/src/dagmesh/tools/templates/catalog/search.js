// Filter the product cards (and their entries in the menu) by every word typed, and dim the other
// products in the lineage graph; the page loads no library: each card carries its text in data-search.
(function () {
  var box = document.getElementById("search");
  var count = document.getElementById("search-count");
  var cards = Array.prototype.slice.call(document.querySelectorAll("section.product"));
  box.hidden = false;
  box.addEventListener("input", function () {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute("data-search");
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      card.hidden = !match;
      var item = document.querySelector('nav li[data-product="' + card.id + '"]');
      if (item) { item.hidden = !match; }
      var node = document.querySelector('svg a.node[data-key="' + card.getAttribute("data-key") + '"]');
      if (node) { node.style.opacity = match || words.length === 0 ? "1" : "0.25"; }
      if (match) { shown += 1; }
    });
    document.querySelectorAll("div.domain").forEach(function (domain) {
      domain.hidden = !domain.querySelector("section.product:not([hidden])");
    });
    count.hidden = words.length === 0;
    count.textContent = shown + " of " + cards.length + " products match";
  });
})();
