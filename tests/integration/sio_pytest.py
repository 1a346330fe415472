"""What the Python client suites (test_python_client.py, test_python_msgpack.py) share: the
build tree, a server binary as a child process, an inbox of received events, and the
summary line of a run. Not a suite itself (cmake/tests.cmake runs test_*.py only)."""
import os
import queue
import re
import subprocess
import sys
import threading
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('NOOM_BUILD') or os.path.join(REPO, 'build')
WAIT = 5.0  # bound of every wait, in seconds: reached only when a test fails


class Server:
    """A server (argv) as a child process on a free port (prints "listening on URL")."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv + ['--port', '0'], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, lines), daemon=True).start()
        self.lock = threading.Lock()
        self.stderr = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=WAIT)
                if line is None:
                    raise RuntimeError('%s exited before listening: %s' % (argv[-1], self.log()))
                m = re.match(r'^listening on (http://127\.0\.0\.1:\d+)$', line.rstrip('\n'))
                if m:
                    self.url = m.group(1)
                    break
        except queue.Empty:
            self.close()
            raise RuntimeError('%s did not print "listening on" in time' % argv[-1])

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.put(line)
        lines.put(None)

    def _drain(self, stream):
        for line in stream:
            with self.lock:
                self.stderr.append(line)
            if os.environ.get('NOOM_SERVER_LOG'):
                sys.stderr.write(line)

    def log(self):
        with self.lock:
            return ''.join(self.stderr)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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


def recorder(inbox, ns, fixed=None):
    """A handler that puts what it gets into inbox under ns (and event fixed, if given,
    for handlers of one event such as connect_error)."""
    if fixed:
        return lambda *args: inbox.put(ns, fixed, args)
    return lambda event, *args: inbox.put(ns, event, args)


def main():
    """Runs the module's tests; prints "N passed, M failed" last; exits non-zero on failure."""
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
