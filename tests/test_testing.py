"""The server-log check of the browser tests: Streamlit's closed-tab traceback is left out, every other error shows."""

from mnist_app.testing import server_log_problems

# as uvicorn logged it in a CI run of the load test (paths shortened)
CLOSED_TAB = """2026-11-29 10:00:01.000 Exception in ASGI application
Traceback (most recent call last):
  File "streamlit/web/server/starlette/starlette_websocket.py", line 516, in websocket_endpoint
    data = await websocket.receive_bytes()
starlette.websockets.WebSocketDisconnected: WebSocket is not connected. Need to call "accept" first.

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "streamlit/web/server/starlette/starlette_websocket.py", line 524, in websocket_endpoint
    await websocket.close()
starlette.websockets.WebSocketDisconnected: Cannot call "send" once a close message has been sent.
"""
LOADED = "2026-11-29 10:00:00.000 mnist-app loaded model numpy-mlp from models\n"


def test_a_clean_log_has_no_problems():
    assert server_log_problems(LOADED) == []


def test_streamlits_closed_tab_traceback_is_left_out():
    assert server_log_problems(LOADED + CLOSED_TAB + LOADED) == []


def test_any_other_traceback_still_shows():
    other = 'Traceback (most recent call last):\n  File "app.py", line 3\nValueError: boom\n'
    assert server_log_problems(LOADED + other) == ["Traceback (most recent call last):", "ValueError: boom"]


def test_an_error_beside_the_closed_tab_traceback_still_shows():
    problems = server_log_problems(CLOSED_TAB + "2026-11-29 10:00:02.000 StoreError: cannot save\n")
    assert problems == ["2026-11-29 10:00:02.000 StoreError: cannot save"]
