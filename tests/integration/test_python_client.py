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
import unittest
import uuid
import warnings

import socketio

from sio_pytest import BUILD, REPO, WAIT, Inbox, Server, main, recorder

REF = os.environ.get('NOOM_REF', '') not in ('', '0')

ECHO_BIN = os.path.join(BUILD, 'examples', 'echo')
ECHO_REF = os.path.join(REPO, 'tests', 'support', 'ref-sio-echo.mjs')


SERVER = None


def setUpModule():
    global SERVER
    # python-engineio leaves its HTTP sessions to the GC: not ours to report.
    warnings.filterwarnings('ignore', category=ResourceWarning)
    if not REF and not os.path.exists(ECHO_BIN):
        raise unittest.SkipTest(ECHO_BIN + ' is not built (set NOOM_BUILD, or NOOM_REF=1)')
    SERVER = Server(['node', ECHO_REF] if REF else [ECHO_BIN])


def tearDownModule():
    if SERVER is not None:
        SERVER.close()


class EchoTests:
    """The cases, run once per transport by the concrete classes below."""

    transports = None

    def client(self, namespaces=('/',), **connect_kw):
        """A connected socketio.Client recording every event of `namespaces` in .inbox."""
        c = socketio.Client(reconnection=False)
        c.inbox = Inbox()
        for ns in namespaces:
            c.on('*', recorder(c.inbox, ns), namespace=ns)
            c.on('connect_error', recorder(c.inbox, ns, 'connect_error'), namespace=ns)
        self.addCleanup(c.disconnect)
        c.connect(SERVER.url, transports=self.transports, namespaces=list(namespaces),
                  wait_timeout=WAIT, **connect_kw)
        return c

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
        c.on('connect_error', recorder(inbox, '/nope', 'connect_error'), namespace='/nope')
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
    main()
