"""The application on top of the library: the ``sleepjax`` command, the experiment drivers, their
resumable JSON records, interruption handling and plots. The library (everything else in
:mod:`sleepjax`) never imports from here."""
