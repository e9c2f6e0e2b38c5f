"""The identity the tests read products with: a platform tool's, trusted with every access level (a read
names its reader; see `dagmesh.declare.access.Reader`)."""

from dagmesh.declare.access import Reader

TRUSTED = Reader.platform("tests")
