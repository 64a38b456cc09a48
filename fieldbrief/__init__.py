"""fieldbrief: turn sourced YAML briefs into a static HTML site and printable PDF reports.

The pipeline, one module per stage, data flowing forward only:

    project -> load -> validate -> model -> render_html / render_pdf -> publish

``cli`` is the only place that prints messages or chooses exit codes.
"""

__version__ = "0.1.0"
