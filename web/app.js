/*
 * noom web app: the lobby (enter form and the live list of open rooms) and the room chat,
 * over Socket.IO. The events and their arguments are specified in docs/app-events.md;
 * `io` is the global from /socket.io/socket.io.js (our small client, socket.io-client 4
 * API subset). The room's video call lives in call.js (`NoomCall`); this file tells it
 * when the user enters or leaves a room and when the connection drops.
 *
 * Reconnecting (docs/app-events.md "Reconnecting"): the server keeps a dropped session
 * for a while. When the client gets it back (socket.recovered), the server has already
 * replayed what the room said meanwhile, so the page only says "Reconnected". When it
 * could not (the session expired, the server restarted), the page enters its room again
 * by itself and shows the messages it missed from the history in the answer, skipping
 * those it already shows (by message id; its own by text).
 *
 * Rule for the whole file: text that came from a user or the server is inserted with
 * textContent / text nodes only, never parsed as HTML, so a nickname such as
 * `<img src=x onerror=alert(1)>` shows up literally.
 */
(() => {
  'use strict';

  // How long an ack may take before the UI says the server did not answer.
  const ACK_MS = 8000;
  // Older messages asked for per scroll to the top (the server allows up to 200).
  const PAGE = 50;
  const NICK_KEY = 'noom.nickname';

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('conn-status'),
    lobby: $('lobby'),
    enterForm: $('enter-form'),
    nickname: $('nickname'),
    roomName: $('room-name'),
    enterBtn: $('enter-btn'),
    enterError: $('enter-error'),
    roomList: $('room-list'),
    noRooms: $('no-rooms'),
    room: $('room'),
    roomTitle: $('room-title'),
    leaveBtn: $('leave-btn'),
    messages: $('messages'),
    messageForm: $('message-form'),
    messageInput: $('message-input'),
    roomError: $('room-error'),
    nickForm: $('nick-form'),
    nickInput: $('nick-input'),
  };

  // room is the room we are in (null in the lobby); it survives a disconnection so that
  // the reconnect handler can enter it again.
  const state = { nickname: '', room: null, count: 0, entering: false };
  // The room's history: the oldest message shown (paging goes before it), whether older
  // ones may exist, and whether a page is being fetched.
  const hist = { oldest: null, more: false, loading: false };
  // What the room shows, to fill a gap after a reconnection without repeats: the ids of
  // the stored messages shown, and the texts of our own not yet seen with an id (the
  // server does not echo them). Both bounded: a gap never reaches further back than one
  // history answer (at most 200 messages).
  const SEEN_MAX = 1000;
  const OWN_MAX = 200;
  const shown = { ids: new Set(), own: [] };

  function markSeen(id) {
    if (typeof id !== 'string') return;
    shown.ids.add(id);
    if (shown.ids.size > SEEN_MAX) shown.ids.delete(shown.ids.values().next().value);
  }

  /* ---- small helpers ---- */

  function store(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch (_) {
      /* storage disabled: the nickname is simply not remembered */
    }
  }

  function recall(key) {
    try {
      return localStorage.getItem(key) || '';
    } catch (_) {
      return '';
    }
  }

  function showError(node, text) {
    node.textContent = text;
    node.hidden = false;
  }

  function clearError(node) {
    node.textContent = '';
    node.hidden = true;
  }

  // The server answers a refused call with {error: "..."}; anything else is success.
  function ackError(res) {
    if (res && typeof res === 'object' && typeof res.error === 'string') return res.error;
    return null;
  }

  /* ---- connection status ---- */

  const STATUS_TEXT = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    failed: 'Offline: the client library did not load',
  };

  function setStatus(kind) {
    ui.status.dataset.state = kind;
    ui.status.textContent = STATUS_TEXT[kind];
    document.body.dataset.conn = kind;
  }

  /* ---- lobby: the room list ---- */

  // room_change(names, rooms): rooms is [{name, count}]; a server that sends only the
  // course's first argument (sorted names) still gives a usable list, without counts.
  function normaliseRooms(names, rooms) {
    if (Array.isArray(rooms)) {
      return rooms
        .filter((r) => r && typeof r.name === 'string')
        .map((r) => ({ name: r.name, count: Number.isInteger(r.count) ? r.count : null }));
    }
    if (Array.isArray(names)) {
      return names.filter((n) => typeof n === 'string').map((n) => ({ name: n, count: null }));
    }
    return [];
  }

  function roomItem(room) {
    const li = document.createElement('li');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'room-item';
    btn.dataset.testid = 'room-item';
    btn.dataset.room = room.name; // an attribute value: never parsed as markup
    const name = document.createElement('span');
    name.className = 'room-name';
    name.textContent = room.name;
    btn.append(name);
    if (room.count !== null) {
      const count = document.createElement('span');
      count.className = 'room-count';
      count.textContent = `(${room.count})`;
      btn.append(' ', count);
    }
    btn.title = `Enter ${room.name}`;
    li.append(btn);
    return li;
  }

  // total: how many public rooms exist; the server lists only the largest ones.
  function renderRooms(rooms, total) {
    const items = rooms.map(roomItem);
    if (Number.isInteger(total) && total > rooms.length) {
      const more = document.createElement('li');
      more.className = 'room-more';
      more.textContent = `and ${total - rooms.length} more`;
      items.push(more);
    }
    ui.roomList.replaceChildren(...items);
    ui.noRooms.hidden = rooms.length > 0;
  }

  /* ---- room: title and message list ---- */

  function renderTitle() {
    ui.roomTitle.textContent = `Room ${state.room} (${state.count})`;
    document.title = `${state.room} (${state.count}) · noom`;
  }

  function setCount(n) {
    if (!Number.isInteger(n) || n < 0) return;
    state.count = n;
    renderTitle();
  }

  // kind: "own" (You: ...), "in" (nick: ...) or "system" (arrivals, departures, notices).
  // Chat lines are "who: text"; the who part gets its own span for styling, while the
  // line's textContent stays exactly the string the server or the course produces.
  // ts (optional, ms since the epoch) shows as a short local time beside the name, through
  // CSS generated content (data-time), so the line's textContent stays "who: text".
  function lineItem(kind, text, ts) {
    const li = document.createElement('li');
    li.className = `msg msg-${kind}`;
    li.dataset.kind = kind;
    const cut = kind === 'system' ? -1 : text.indexOf(': ');
    if (cut > 0) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = text.slice(0, cut);
      if (Number.isFinite(ts)) {
        who.dataset.time = shortTime(ts);
        li.title = new Date(ts).toLocaleString();
      }
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
    return li;
  }

  function addLine(kind, text, ts) {
    const list = ui.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(lineItem(kind, text, ts));
    if (atBottom || kind === 'own') list.scrollTop = list.scrollHeight;
  }

  // "14:05" today, "3 Jan 14:05" on another day: the reader's locale and time zone.
  function shortTime(ts) {
    const d = new Date(ts);
    const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (d.toDateString() === new Date().toDateString()) return time;
    return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
  }

  /* ---- history ---- */

  // A stored message as the server sends it: {id, nickname, text, ts}; anything else is
  // skipped rather than trusted.
  const isStored = (m) => m && typeof m.id === 'string' && typeof m.nickname === 'string' &&
    typeof m.text === 'string' && Number.isFinite(m.ts);

  function historyItems(msgs) {
    const frag = document.createDocumentFragment();
    for (const m of msgs) {
      const li = lineItem('in', `${m.nickname}: ${m.text}`, m.ts);
      li.classList.add('msg-history');
      li.dataset.kind = 'history';
      li.dataset.id = m.id;
      markSeen(m.id);
      frag.append(li);
    }
    return frag;
  }

  function setHistoryState() {
    ui.messages.dataset.history = hist.loading ? 'loading' : hist.more ? 'more' : 'done';
  }

  // The latest messages from enter_room's ack, above a divider.
  function showHistory(msgs) {
    msgs = Array.isArray(msgs) ? msgs.filter(isStored) : [];
    hist.oldest = msgs.length ? msgs[0].id : null;
    hist.more = msgs.length > 0;
    hist.loading = false;
    setHistoryState();
    if (!msgs.length) return;
    ui.messages.append(historyItems(msgs));
    const divider = document.createElement('li');
    divider.className = 'history-divider';
    divider.dataset.kind = 'divider';
    divider.setAttribute('role', 'separator');
    divider.textContent = 'Earlier messages';
    ui.messages.append(divider);
  }

  // Scrolled to the top: the page before the oldest message shown, kept in place (the
  // reader's view does not jump).
  function loadOlder() {
    if (!hist.more || hist.loading || state.room === null || !socket.connected) return;
    hist.loading = true;
    setHistoryState();
    const room = state.room;
    socket.timeout(ACK_MS).emit('history', room, { before: hist.oldest, limit: PAGE }, (err, res) => {
      if (state.room !== room) return;
      hist.loading = false;
      const msgs = !err && res && Array.isArray(res.messages) ? res.messages.filter(isStored) : null;
      if (msgs === null) { // refused or no answer: try again on the next scroll
        setHistoryState();
        return;
      }
      hist.more = msgs.length === PAGE;
      if (msgs.length) {
        hist.oldest = msgs[0].id;
        const list = ui.messages;
        const fromBottom = list.scrollHeight - list.scrollTop;
        list.prepend(historyItems(msgs));
        list.scrollTop = list.scrollHeight - fromBottom;
      }
      setHistoryState();
      fillView();
    });
  }

  // Near the top (or a list too short to scroll): fetch older messages.
  function fillView() {
    if (ui.messages.scrollTop < 40) loadOlder();
  }

  /* ---- views ---- */

  function showRoom(ack) {
    state.room = typeof ack.room === 'string' ? ack.room : ui.roomName.value.trim();
    if (typeof ack.nickname === 'string') state.nickname = ack.nickname;
    state.count = Number.isInteger(ack.count) ? ack.count : 1;
    store(NICK_KEY, state.nickname);
    ui.messages.replaceChildren();
    shown.ids.clear();
    shown.own = [];
    clearError(ui.roomError);
    renderTitle();
    showHistory(ack.history);
    addLine('system', `You entered as ${state.nickname}`);
    ui.nickInput.value = '';
    ui.nickInput.placeholder = state.nickname;
    ui.lobby.hidden = true;
    ui.room.hidden = false;
    if (call) call.enterRoom(state.room);
    ui.messageInput.focus();
    ui.messages.scrollTop = ui.messages.scrollHeight;
    fillView();
  }

  function showLobby() {
    if (call) call.exitRoom();
    state.room = null;
    state.count = 0;
    ui.room.hidden = true;
    ui.lobby.hidden = false;
    ui.messages.replaceChildren();
    ui.nickname.value = state.nickname || ui.nickname.value;
    ui.roomName.value = '';
    clearError(ui.enterError);
    document.title = 'noom';
    ui.roomName.focus();
  }

  /* ---- the socket ---- */

  if (typeof io !== 'function') {
    // /socket.io/socket.io.js failed to load: say so instead of throwing on every click.
    setStatus('failed');
    ui.enterBtn.disabled = true;
    return;
  }
  const socket = io();
  // The video call (call.js); the chat works without it if that script failed to load.
  const call = window.NoomCall ? window.NoomCall.create({ socket, addLine }) : null;

  function enter(nickname, room) {
    if (state.entering) return;
    state.entering = true;
    ui.enterBtn.disabled = true;
    clearError(ui.enterError);
    socket.timeout(ACK_MS).emit('enter_room', nickname, room, (err, res) => {
      state.entering = false;
      ui.enterBtn.disabled = false;
      if (err) {
        showError(ui.enterError, 'The server did not answer. Try again.');
        return;
      }
      const refused = ackError(res);
      if (refused) {
        showError(ui.enterError, refused);
        return;
      }
      state.nickname = nickname;
      showRoom(res || {});
    });
  }

  // The messages of an enter_room history the room does not show yet, oldest first: not
  // seen by id, and not one of our own (matched once each by nickname and text).
  function missedFrom(history) {
    const msgs = Array.isArray(history) ? history.filter(isStored) : [];
    return msgs.filter((m) => {
      if (shown.ids.has(m.id)) return false;
      const own = m.nickname === state.nickname ? shown.own.findIndex((t) => t === m.text || t.trim() === m.text) : -1;
      if (own < 0) return true;
      shown.own.splice(own, 1);
      markSeen(m.id);
      return false;
    });
  }

  // The session could not be resumed: the server has a fresh socket that is in no room.
  // Enter the room we were in again, under the same nickname, and fill the gap.
  function reenter() {
    const room = state.room;
    socket.timeout(ACK_MS).emit('enter_room', state.nickname, room, (err, res) => {
      if (state.room !== room) return; // left while the call was in flight
      const refused = err ? 'no answer from the server' : ackError(res);
      if (refused) {
        addLine('system', `Could not re-enter the room: ${refused}`);
        return;
      }
      if (res && Number.isInteger(res.count)) setCount(res.count);
      const missed = missedFrom(res && res.history);
      addLine('system', missed.length
        ? `Reconnected: entered the room again (${missed.length} missed ${missed.length === 1 ? 'message' : 'messages'} below)`
        : 'Reconnected: entered the room again');
      if (missed.length) {
        const items = historyItems(missed);
        for (const li of items.children) li.dataset.kind = 'missed';
        ui.messages.append(items);
        ui.messages.scrollTop = ui.messages.scrollHeight;
      }
    });
  }

  socket.on('connect', () => {
    setStatus('connected');
    if (call) call.reconnected(socket.recovered);
    if (state.room === null) return;
    // Recovered: same socket, same rooms, and the missed events came just before this.
    if (socket.recovered) addLine('system', 'Reconnected');
    else reenter();
  });

  socket.on('disconnect', (reason) => {
    setStatus('reconnecting');
    if (call) call.disconnected();
    if (state.room !== null) addLine('system', 'Connection lost, reconnecting…');
    // socket.io-client does not reconnect by itself after a server-side disconnect.
    if (reason === 'io server disconnect') socket.connect();
  });

  socket.on('connect_error', () => setStatus('reconnecting'));

  socket.on('room_change', (names, rooms, total) => renderRooms(normaliseRooms(names, rooms), total));

  socket.on('welcome', (nickname, count) => {
    if (state.room === null) return;
    addLine('system', `${nickname} arrived!`);
    setCount(count);
  });

  socket.on('bye', (nickname, count) => {
    if (state.room === null) return;
    addLine('system', `${nickname} left`);
    setCount(count);
    if (call) call.bye(nickname);
  });

  // (line, room, stored): the course's line; stored {id, nickname, text, ts} adds the time.
  socket.on('new_message', (line, room, stored) => {
    if (state.room === null) return;
    if (isStored(stored)) {
      if (shown.ids.has(stored.id)) return; // already filled in from a history
      markSeen(stored.id);
    }
    addLine('in', String(line), isStored(stored) ? stored.ts : undefined);
    if (isStored(stored)) ui.messages.lastElementChild.dataset.id = stored.id;
  });

  /* ---- forms and buttons ---- */

  ui.enterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const nickname = ui.nickname.value.trim();
    const room = ui.roomName.value.trim();
    if (!nickname) {
      showError(ui.enterError, 'Pick a nickname first.');
      ui.nickname.focus();
      return;
    }
    if (!room) {
      showError(ui.enterError, 'Type a room name, or pick an open room below.');
      ui.roomName.focus();
      return;
    }
    enter(nickname, room);
  });

  for (const input of [ui.nickname, ui.roomName]) {
    input.addEventListener('input', () => clearError(ui.enterError));
  }

  // Clicking an open room fills the form and enters it.
  ui.roomList.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-room]');
    if (!btn) return;
    ui.roomName.value = btn.dataset.room;
    ui.enterForm.requestSubmit();
  });

  ui.messageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.messageInput.value;
    if (!text.trim() || state.room === null) return;
    if (!socket.connected) {
      showError(ui.roomError, 'Not connected; wait for the reconnection.');
      return;
    }
    clearError(ui.roomError);
    ui.messageInput.value = '';
    socket.timeout(ACK_MS).emit('new_message', text, state.room, (err, res) => {
      const refused = err ? 'Not delivered: the server did not answer.' : ackError(res);
      if (refused) {
        showError(ui.roomError, refused);
        if (!ui.messageInput.value) ui.messageInput.value = text;
        return;
      }
      addLine('own', `You: ${text}`, Date.now());
      shown.own.push(text);
      if (shown.own.length > OWN_MAX) shown.own.shift();
    });
  });

  ui.messageInput.addEventListener('input', () => clearError(ui.roomError));

  ui.messages.addEventListener('scroll', fillView, { passive: true });

  ui.nickForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ui.nickInput.value.trim();
    if (!name) return;
    clearError(ui.roomError);
    socket.timeout(ACK_MS).emit('nickname', name, (err, res) => {
      const refused = err ? 'The server did not answer. Try again.' : ackError(res);
      if (refused) {
        showError(ui.roomError, refused);
        return;
      }
      state.nickname = typeof res === 'string' ? res : name;
      store(NICK_KEY, state.nickname);
      ui.nickInput.value = '';
      ui.nickInput.placeholder = state.nickname;
      addLine('system', `You are now ${state.nickname}`);
    });
  });

  ui.leaveBtn.addEventListener('click', () => {
    const room = state.room;
    if (room === null) return;
    // Back to the lobby at once; a disconnected socket is in no room anyway.
    if (socket.connected) socket.emit('leave_room', room, () => {});
    showLobby();
  });

  // Closing the tab is leaving, not a dropped connection: say so (a namespace disconnect),
  // so the room hears bye now rather than when the server gives up waiting for us. A page
  // kept in the back/forward cache connects again when shown (as a new socket).
  window.addEventListener('pagehide', () => {
    if (socket.connected) socket.disconnect();
  });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted && !socket.connected) socket.connect();
  });

  /* ---- start ---- */

  setStatus('connecting');
  renderRooms([]);
  state.nickname = recall(NICK_KEY);
  ui.nickname.value = state.nickname;
  (state.nickname ? ui.roomName : ui.nickname).focus();
})();
