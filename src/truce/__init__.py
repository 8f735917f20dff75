"""truce: monitor and verify ceasefires.

Agreements are data, reports come in, incidents and violations come out.
"""

__version__ = "0.1.0"
