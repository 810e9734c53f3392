"""The integration API (v1): conventions shared by every endpoint."""
