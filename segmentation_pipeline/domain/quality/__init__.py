"""Data quality: Great Expectations suites for staged tables, volume warnings and the quality report."""
