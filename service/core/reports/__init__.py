"""Assessment reports: per institution and per year, HTML and PDF, Chinese and English.

The report layer reads only the typed contents of ``contents`` so that it does not depend on
how the annual assessment computes or stores its results; ``write.write_reports`` is the entry
point that writes the files.
"""
