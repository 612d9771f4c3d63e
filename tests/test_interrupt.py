"""Ctrl-C inside ``stop_at_safe_point``: the first asks for a stop at the next safe point, the second
stops at once; the handler and the request do not outlive the block."""

import os
import signal

import pytest

from sleepjax.app.interrupt import Interrupted, check_stop, request_stop, stop_at_safe_point


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def test_first_ctrl_c_stops_at_the_next_safe_point_only(capsys):
    with stop_at_safe_point():
        try:
            ctrl_c()
        except KeyboardInterrupt:
            pytest.fail("the first Ctrl-C stopped the run in progress at once")
        with pytest.raises(Interrupted) as stop:
            check_stop("finetune: seed 0")
    assert stop.value.saved == "finetune: seed 0"
    assert "stopping after the run in progress" in capsys.readouterr().err


def test_second_ctrl_c_stops_at_once():
    with stop_at_safe_point():
        ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            ctrl_c()


def test_handler_and_request_do_not_outlive_the_block():
    before = signal.getsignal(signal.SIGINT)
    with stop_at_safe_point():
        request_stop()
    assert signal.getsignal(signal.SIGINT) is before
    check_stop()  # a later run outside the block is not stopped by the old request


def test_a_stale_request_does_not_stop_the_next_run():
    request_stop()
    with stop_at_safe_point():
        check_stop()
