/*
 * noom /ws-chat: the course's step 1, a public chat over a plain WebSocket at /ws.
 * Sends {"type":"nickname","payload":...} and {"type":"new_message","payload":...} as
 * text frames; every text frame received (the server's "nickname: text", our own lines
 * included) is appended to the list as text, never as HTML. If the socket closes, it
 * shows the server's reason if any, reconnects with a growing delay and sends the saved
 * nickname again.
 */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const status = $('ws-status');
  const list = $('ws-messages');
  const nickForm = $('ws-nick-form');
  const nickInput = $('ws-nick');
  const msgForm = $('ws-message-form');
  const msgInput = $('ws-message');

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  let ws = null;
  let nickname = '';
  let retryMs = 500;

  function setStatus(kind, text) {
    status.dataset.state = kind;
    status.textContent = text;
    document.body.dataset.conn = kind;
  }

  // kind "in": a line from the server, "nickname: text" (the name gets its own span for
  // styling; the line's textContent stays the exact frame); "system": a local notice.
  function append(text, kind) {
    const li = document.createElement('li');
    li.className = `msg msg-${kind}`;
    li.dataset.kind = kind;
    const cut = kind === 'in' ? text.indexOf(': ') : -1;
    if (cut > 0) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = text.slice(0, cut);
      const sep = document.createElement('span');
      sep.className = 'sep';
      sep.textContent = ': ';
      const body = document.createElement('span');
      body.className = 'body';
      body.textContent = text.slice(cut + 2);
      li.append(who, sep, body);
    } else {
      li.textContent = text;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(li);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function send(type, payload) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type, payload }));
    return true;
  }

  function connect() {
    setStatus('connecting', 'Connecting…');
    ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      retryMs = 500;
      setStatus('connected', 'Connected');
      if (nickname) send('nickname', nickname);
    });
    ws.addEventListener('message', (e) => {
      if (typeof e.data === 'string') append(e.data, 'in');
    });
    ws.addEventListener('close', (e) => {
      // The server says why it closed us (e.g. "rate limit exceeded", "ping timeout").
      if (e.reason) append(`Disconnected by the server: ${e.reason}`, 'system');
      setStatus('reconnecting', 'Reconnecting…');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    });
  }

  nickForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = nickInput.value.trim();
    if (!name) return;
    nickname = name;
    if (send('nickname', name)) append(`You are now ${name}`, 'system');
  });

  msgForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = msgInput.value;
    if (!text.trim()) return;
    if (send('new_message', text)) msgInput.value = '';
    else append('Not connected; the message was not sent.', 'system');
  });

  connect();
})();
