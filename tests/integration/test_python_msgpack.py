#!/usr/bin/python3
"""The msgpack parser through the official Python client: python3-socketio 5.7 with
serializer='msgpack' (python3-msgpack; the same encoding as socket.io-msgpack-parser, every
packet one msgpack map, bytes as msgpack bin) against build/examples/echo --parser msgpack
and build/tests/sio_test_server --parser msgpack, over polling and over websocket: connect
with auth, events with nested data and bytes, acks both ways, a connect refused by a
namespace middleware, and a parser mismatch (closed, the server says what to do). The
client's packet class carries upstream's fix for acks with id 0 (see MsgPackPacket below).

The echo server also runs with --per-message-deflate here: python3-socketio's clients do not
offer that extension (the sync client's websocket-client 1.2 has no permessage-deflate; the
asyncio client calls aiohttp's ws_connect without `compress`), so this checks that a server
with deflate on still serves them, uncompressed (docs/node-parity.md).

Run with Debian's interpreter: /usr/bin/python3 tests/integration/test_python_msgpack.py
NOOM_BUILD=<dir> picks the build tree (default <repo>/build). Ends with a last line
"N passed, M failed"; any failure exits non-zero.
"""
import os
import time
import unittest
import uuid
import warnings

import socketio
from socketio import msgpack_packet

from sio_pytest import BUILD, WAIT, Inbox, Server, main, recorder

ECHO_BIN = os.path.join(BUILD, 'examples', 'echo')
TEST_BIN = os.path.join(BUILD, 'tests', 'sio_test_server')
WARN_DEFAULT = ('speaks the default parser (text packets) but this server uses msgpack: '
                'configure the client with parser')


class MsgPackPacket(msgpack_packet.MsgPackPacket):
    """Debian's python3-socketio 5.7.2 with python-socketio's own fix (PR #1329, 2024):
    its packet dict leaves out an `id` of 0 (`if self.id:`), so the answer to the first
    ack a server asks for (Node and noom number them from 0) goes out as an ACK without id,
    which socket.io-msgpack-parser and noom refuse by closing the connection."""

    def _to_dict(self):
        d = super()._to_dict()
        if self.id is not None:
            d['id'] = self.id
        return d


ECHO = TEST = None


def setUpModule():
    global ECHO, TEST
    warnings.filterwarnings('ignore', category=ResourceWarning)
    for b in (ECHO_BIN, TEST_BIN):
        if not os.path.exists(b):
            raise unittest.SkipTest(b + ' is not built (set NOOM_BUILD)')
    ECHO = Server([ECHO_BIN, '--parser', 'msgpack', '--per-message-deflate'])
    TEST = Server([TEST_BIN, '--parser', 'msgpack'])


def tearDownModule():
    for s in (ECHO, TEST):
        if s is not None:
            s.close()


class MsgpackTests:
    """The cases, run once per transport by the concrete classes below."""

    transports = None

    def client(self, server=None, namespaces=('/',), handlers=None, wait=True, serializer=MsgPackPacket,
               **connect_kw):
        """A socketio.Client (msgpack) recording every event of `namespaces` in .inbox."""
        c = socketio.Client(reconnection=False, serializer=serializer)
        c.inbox = Inbox()
        for ns in namespaces:
            for event, fn in (handlers or {}).items():
                c.on(event, fn, namespace=ns)
            c.on('*', recorder(c.inbox, ns), namespace=ns)
            c.on('connect_error', recorder(c.inbox, ns, 'connect_error'), namespace=ns)
        self.addCleanup(c.disconnect)
        c.connect((server or ECHO).url, transports=self.transports, namespaces=list(namespaces),
                  wait=wait, wait_timeout=WAIT, **connect_kw)
        return c

    def test_connect_with_auth_nested_and_bytes(self):
        auth = {'token': 'py', 'n': [1, 2.5, None, -7, 2 ** 40], 'deep': {'ü': [True, {}]}}
        c = self.client(auth=auth)
        self.assertTrue(c.connected)
        self.assertEqual(c.transport(), self.transports[0])
        self.assertEqual(c.inbox.get('auth'), (auth,))

    def test_events_with_nested_data_and_bytes(self):
        c = self.client()
        args = ('plain', '', 'ünï ✓ 😀', 0, -1, 127, 128, 65536, 2 ** 32, 2 ** 53 - 1, 0.1, -1.5e-7,
                True, False, None, {'a': 1, 'c': [1, 2, {'d': None, 'e': []}], 'f': {}},
                b'\x00\x01\xfe\xff', b'', {'nested': b'bin in object', 'list': [b'\xff', 'x']})
        c.emit('message', args)
        back = c.inbox.get('message-back')
        self.assertEqual(back, args)
        self.assertIsInstance(back[16], bytes, 'bytes arrive as bytes (msgpack bin)')
        big, text = bytes(range(256)) * 1200, 'y' * 100 * 1024  # 300 KB next to 100 KB
        c.emit('message', (big, text))
        self.assertEqual(c.inbox.get('message-back'), (big, text))

    def test_client_to_server_acks(self):
        c = self.client()
        args = ('a', {'b': [b'c', {'d': b'\x07'}]}, 3)
        self.assertEqual(c.call('message-with-ack', args, timeout=WAIT), args)
        self.assertEqual(c.call('echo', {'i': 1, 'bin': b'\x01'}, timeout=WAIT), {'i': 1, 'bin': b'\x01'})
        self.assertIsNone(c.call('message-with-ack', timeout=WAIT))

    def test_server_to_client_acks(self):
        # sio_test_server's `ask` emits {event, args} to this socket with an ack and a timeout,
        # and answers with what the client acked. (python-socketio acks every event that asks
        # for one, handled or not, so the server's timeout is not reachable from here.)
        def question(x, blob):
            return x + 1, blob[::-1], {'ok': True}
        c = self.client(TEST, handlers={'question': question})
        for i in range(3):
            r = c.call('ask', {'event': 'question', 'args': [41 + i, b'\x01\x02'], 'timeout': 3000},
                       timeout=WAIT)
            self.assertEqual(r, {'err': None, 'args': [42 + i, b'\x02\x01', {'ok': True}]})

    def test_rooms_and_bcast_carry_bytes(self):
        room = 'pymp-' + uuid.uuid4().hex
        sender, member = self.client(), self.client()
        self.assertIs(sender.call('join', room, timeout=WAIT), True)
        self.assertIs(member.call('join', room, timeout=WAIT), True)
        msg = {'room': room, 'n': 1, 'bin': b'\x01\x02', 'deep': {'list': [b'z']}}
        sender.emit('bcast', msg)
        self.assertEqual(member.inbox.get('bcast'), (msg,))
        self.assertEqual(sender.call('echo', 'sync', timeout=WAIT), 'sync')
        self.assertEqual(sender.inbox.count('bcast'), 0, 'the sender does not get its own bcast')

    def test_connect_refused_by_middleware(self):
        c = self.client(namespaces=('/custom',), wait=False, auth={'refuse': 'go away'})
        (data,) = c.inbox.get('connect_error', ns='/custom')
        self.assertEqual(data, {'message': 'go away', 'data': {'reason': 'refused by middleware'}})
        self.assertNotIn('/custom', c.namespaces)
        # The other middleware, on the test server's "/": message and data as the server set them.
        t = self.client(TEST, wait=False, auth={'token': 'bad'})
        (data,) = t.inbox.get('connect_error')
        self.assertEqual(data, {'message': 'unauthorized', 'data': {'code': 42}})
        # Next to it, "/" and "/custom" multiplexed on one connection both connect.
        ok = self.client(namespaces=('/', '/custom'))
        self.assertEqual(set(ok.namespaces), {'/', '/custom'})
        self.assertEqual(ok.inbox.get('auth', ns='/custom'), ({},))

    def test_default_client_on_msgpack_server_is_closed_and_warned(self):
        before = ECHO.log().count(WARN_DEFAULT)
        c = socketio.Client(reconnection=False)
        self.addCleanup(c.disconnect)
        connected = True
        try:
            c.connect(ECHO.url, transports=self.transports, wait_timeout=2)
        except socketio.exceptions.ConnectionError:
            connected = False
        self.assertFalse(connected and c.connected and '/' in c.namespaces)
        deadline = time.monotonic() + WAIT
        while ECHO.log().count(WARN_DEFAULT) <= before and time.monotonic() < deadline:
            time.sleep(0.02)  # polls the server's stderr: the warning has no event to await
        self.assertGreater(ECHO.log().count(WARN_DEFAULT), before, ECHO.log())


class PollingTests(MsgpackTests, unittest.TestCase):
    transports = ['polling']


class WebSocketTests(MsgpackTests, unittest.TestCase):
    transports = ['websocket']


if __name__ == '__main__':
    main()
