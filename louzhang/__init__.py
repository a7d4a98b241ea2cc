"""Louzhang (楼长): community epidemic prevention run by police building wardens."""

__version__ = "0.1.0"
