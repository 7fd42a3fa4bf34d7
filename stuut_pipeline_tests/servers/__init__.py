"""Servers the tests start on loopback (throwaway, stopped in teardown)."""
