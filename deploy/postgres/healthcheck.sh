#!/bin/sh
# Healthy once the server accepts connections to the gateway database.
exec pg_isready -q -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-gateway}"
