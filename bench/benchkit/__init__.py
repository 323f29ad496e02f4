"""The benchmark harness behind ``make bench`` (issue 5): fixed-response upstream, targets,
load driver, /proc sampling, and the report. Pure parts (fixtures, parsing, report) are tested
in tests/bench/; the rest starts real processes on 127.0.0.1 and is exercised by ``make bench``.
"""
