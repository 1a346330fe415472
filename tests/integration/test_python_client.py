#!/usr/bin/python3
"""Socket.IO v5 interoperability suite with the official Python client (python3-socketio 5.7,
sync socketio.Client) against the echo server (build/examples/echo, contract 1 in
docs/test-server.md): connect over polling and over websocket, the `auth` event, emit with
ack (call), binary args both ways, rooms through the echo server's join + bcast with several
Python clients, the custom namespace, and an invalid namespace.

Run with Debian's interpreter (the pyenv python3 on PATH cannot import socketio):
    /usr/bin/python3 tests/integration/test_python_client.py
NOOM_BUILD=<dir> picks the build tree (default <repo>/build); NOOM_REF=1 runs against the Node
reference tests/support/ref-sio-echo.mjs instead of the C binary. Ends with unittest's "OK"
(exit 0) and a last line "N passed, M failed"; any failure exits non-zero.
"""
import os
import queue
import re
import subprocess
import sys
import threading
import unittest
import uuid
import warnings

import socketio

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('NOOM_BUILD') or os.path.join(REPO, 'build')
REF = os.environ.get('NOOM_REF', '') not in ('', '0')
WAIT = 5.0  # bound of every wait, in seconds: reached only when a test fails

ECHO_BIN = os.path.join(BUILD, 'examples', 'echo')
ECHO_REF = os.path.join(REPO, 'tests', 'support', 'ref-sio-echo.mjs')


class Server:
    """The echo server as a child process on a free port (prints "listening on URL")."""

    def __init__(self):
        argv = ['node', ECHO_REF] if REF else [ECHO_BIN]
        argv += ['--port', '0']
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, lines), daemon=True).start()
        self.stderr = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=WAIT)
                if line is None:
                    raise RuntimeError('echo server exited before listening: ' + ''.join(self.stderr))
                m = re.match(r'^listening on (http://127\.0\.0\.1:(\d+))$', line.rstrip('\n'))
                if m:
                    self.url = m.group(1)
                    break
        except queue.Empty:
            self.close()
            raise RuntimeError('echo server did not print "listening on" in time')

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.put(line)
        lines.put(None)

    def _drain(self, stream):
        for line in stream:
            self.stderr.append(line)
            if os.environ.get('NOOM_SERVER_LOG'):
                sys.stderr.write(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


SERVER = None


def setUpModule():
    global SERVER
    # python-engineio leaves its HTTP sessions to the GC: not ours to report.
    warnings.filterwarnings('ignore', category=ResourceWarning)
    if not REF and not os.path.exists(ECHO_BIN):
        raise unittest.SkipTest(ECHO_BIN + ' is not built (set NOOM_BUILD, or NOOM_REF=1)')
    SERVER = Server()


def tearDownModule():
    if SERVER is not None:
        SERVER.close()


class Inbox:
    """Every event a client receives, per (namespace, event), in arrival order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queues = {}

    def _queue(self, ns, event):
        with self.lock:
            return self.queues.setdefault((ns, event), queue.Queue())

    def put(self, ns, event, args):
        self._queue(ns, event).put(args)

    def get(self, event, ns='/', timeout=WAIT):
        try:
            return self._queue(ns, event).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no "%s" on %s within %.1f s' % (event, ns, timeout)) from None

    def count(self, event, ns='/'):
        return self._queue(ns, event).qsize()


class EchoTests:
    """The cases, run once per transport by the concrete classes below."""

    transports = None

    def client(self, namespaces=('/',), **connect_kw):
        """A connected socketio.Client recording every event of `namespaces` in .inbox."""
        c = socketio.Client(reconnection=False)
        c.inbox = Inbox()
        for ns in namespaces:
            c.on('*', self._recorder(c.inbox, ns), namespace=ns)
            c.on('connect_error', self._recorder(c.inbox, ns, 'connect_error'), namespace=ns)
        self.addCleanup(c.disconnect)
        c.connect(SERVER.url, transports=self.transports, namespaces=list(namespaces),
                  wait_timeout=WAIT, **connect_kw)
        return c

    @staticmethod
    def _recorder(inbox, ns, fixed=None):
        if fixed:
            return lambda *args: inbox.put(ns, fixed, args)
        return lambda event, *args: inbox.put(ns, event, args)

    def test_connect_reports_transport_and_auth(self):
        auth = {'token': 'py', 'n': [1, 2.5, None], 'nested': {'ü': 'ok'}}
        c = self.client(auth=auth)
        self.assertTrue(c.connected)
        self.assertEqual(c.transport(), self.transports[0])
        self.assertTrue(c.get_sid('/'))
        self.assertEqual(c.inbox.get('auth'), (auth,))

    def test_connect_without_auth_gets_empty_object(self):
        c = self.client()
        self.assertEqual(c.inbox.get('auth'), ({},))

    def test_call_returns_the_ack_args(self):
        c = self.client()
        args = (1, 'two', {'x': [None, 0.5, True, -7, 2 ** 53 - 1], 'empty': {}, 'list': []})
        self.assertEqual(c.call('message-with-ack', args, timeout=WAIT), args)
        self.assertEqual(c.call('echo', {'a': 'ünï ✓'}, timeout=WAIT), {'a': 'ünï ✓'})
        self.assertIsNone(c.call('message-with-ack', timeout=WAIT))

    def test_binary_args_both_ways(self):
        c = self.client()
        args = (b'\x00\x01\xfe\xff', {'nested': [b'abc', {'deep': b'\x07'}], 's': 'ü'}, 'text', 3)
        c.emit('message', args)
        self.assertEqual(c.inbox.get('message-back'), args)
        self.assertEqual(c.call('message-with-ack', args, timeout=WAIT), args)
        big = bytes(range(256)) * 400  # 100 KB
        self.assertEqual(c.call('echo', big, timeout=WAIT), big)

    def test_rooms_join_and_bcast_reach_only_the_other_members(self):
        room = 'py-' + uuid.uuid4().hex
        sender, member, outsider = self.client(), self.client(), self.client()
        self.assertIs(sender.call('join', room, timeout=WAIT), True)
        self.assertIs(member.call('join', room, timeout=WAIT), True)
        msg = {'room': room, 'x': 1, 'bin': b'\x01\x02'}
        sender.emit('bcast', msg)
        self.assertEqual(member.inbox.get('bcast'), (msg,))
        # Order is kept per connection: once each socket's echo is acked, a bcast sent to it
        # before would already be in its inbox.
        self.assertEqual(sender.call('echo', 'sync', timeout=WAIT), 'sync')
        self.assertEqual(outsider.call('echo', 'sync', timeout=WAIT), 'sync')
        self.assertEqual(member.call('echo', 'sync', timeout=WAIT), 'sync')
        self.assertEqual(sender.inbox.count('bcast'), 0, 'the sender does not get its own bcast')
        self.assertEqual(outsider.inbox.count('bcast'), 0, 'a non-member gets nothing')
        self.assertEqual(member.inbox.count('bcast'), 0, 'the member got it exactly once')

    def test_custom_namespace_next_to_main(self):
        c = self.client(namespaces=('/', '/custom'), auth={'who': 'py'})
        self.assertEqual(set(c.namespaces), {'/', '/custom'})
        self.assertEqual(c.inbox.get('auth', ns='/custom'), ({'who': 'py'},))
        self.assertEqual(c.inbox.get('auth', ns='/'), ({'who': 'py'},))
        self.assertNotEqual(c.get_sid('/'), c.get_sid('/custom'))
        self.assertEqual(c.call('echo', 'main', timeout=WAIT), 'main')

    def test_custom_namespace_alone(self):
        c = self.client(namespaces=('/custom',))
        self.assertEqual(c.inbox.get('auth', ns='/custom'), ({},))

    def test_invalid_namespace_gets_connect_error(self):
        c = socketio.Client(reconnection=False)
        inbox = Inbox()
        c.on('connect_error', self._recorder(inbox, '/nope', 'connect_error'), namespace='/nope')
        self.addCleanup(c.disconnect)
        c.connect(SERVER.url, transports=self.transports, namespaces=['/nope'], wait=False)
        (data,) = inbox.get('connect_error', ns='/nope')
        self.assertEqual(data, {'message': 'Invalid namespace'})
        self.assertNotIn('/nope', c.namespaces)


class PollingTests(EchoTests, unittest.TestCase):
    transports = ['polling']


class WebSocketTests(EchoTests, unittest.TestCase):
    transports = ['websocket']


if __name__ == '__main__':
    program = unittest.main(exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    print(line)
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
