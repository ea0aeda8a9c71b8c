"""The annual assessment of technology transfer institutions: tables, decisions and API."""
