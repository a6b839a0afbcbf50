"""The backend benchmark behind `make bench`: see python -m maintainer.bench --help."""
