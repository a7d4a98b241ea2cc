"""The daily report (日报): XLSX and printable page, written by the worker."""
