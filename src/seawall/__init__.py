"""Seawall: a trust-and-safety pipeline against violent extremist content, threats and ban evasion."""

__version__ = "0.1.0"
