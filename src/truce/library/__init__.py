"""The built-in library: agreements shipped with truce (YAML) and gazetteer data."""
