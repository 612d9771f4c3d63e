"""Experiments, one module each, over the shared record layer (:mod:`sleepjax.record`).

Each module owns its configuration, its runs, its summaries and its printed table; the ``sleepjax``
command only parses arguments and dispatches here.
"""
