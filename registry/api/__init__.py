"""REDCap-compatible API (POST /api/): see registry/api/views.py."""
