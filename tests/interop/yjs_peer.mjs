// A real, unmodified Yjs client (yjs + y-websocket's WebsocketProvider) driven over stdin/stdout.
//
//   node yjs_peer.mjs <server-url> <doc-id> [--params '{"token":"..."}']
//
// The provider connects to `<server-url>/<doc-id>` (y-websocket appends "/" + room name to the
// server URL, after stripping trailing slashes; `params` become a query string).
//
// Protocol: one JSON object per line. stdin carries commands `{"id": N, "op": "...", ...}`;
// stdout carries replies `{"ok": true, "id": N, ...}` / `{"ok": false, "id": N, "error": "..."}`
// and spontaneous events `{"event": "..."}`. stderr is for logs only. See README.md.

import * as readline from 'node:readline'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const log = (...args) => console.error('[yjs_peer]', ...args)

const send = (obj) => {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

const usage = () => {
  log('usage: node yjs_peer.mjs <server-url> <doc-id> [--params JSON]')
  process.exit(2)
}

const argv = process.argv.slice(2)
if (argv.length < 2) usage()
const [serverUrl, docId] = argv
let params = {}
for (let i = 2; i < argv.length; i++) {
  if (argv[i] === '--params' && i + 1 < argv.length) {
    params = JSON.parse(argv[++i])
  } else {
    usage()
  }
}

const doc = new Y.Doc()
const meta = doc.getMap('meta')
const layers = doc.getArray('layers')
const history = doc.getArray('history')

const provider = new WebsocketProvider(serverUrl, docId, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  connect: true,
  params
})

// ---- spontaneous events -------------------------------------------------------------------

const awarenessStates = () => {
  const out = {}
  for (const [clientId, state] of provider.awareness.getStates()) {
    out[String(clientId)] = state
  }
  return out
}

provider.on('status', ({ status }) => send({ event: 'status', status }))
provider.on('sync', (synced) => {
  if (synced) send({ event: 'synced' })
})
provider.on('connection-close', (event) => {
  log(`connection closed: code=${event ? event.code : 'local'} reason=${event ? event.reason : ''}`)
  send({
    event: 'connection-close',
    code: event ? event.code : null,
    reason: event && event.reason ? String(event.reason) : ''
  })
})
provider.on('closed', ({ code, reason }) => {
  send({ event: 'closed', code, reason: reason ? String(reason) : '' })
})
provider.on('connection-error', (event) => {
  log('connection error:', event && event.message ? event.message : event && event.type)
  send({ event: 'connection-error', message: event && event.message ? event.message : '' })
})
provider.awareness.on('change', () => {
  send({ event: 'awareness', states: awarenessStates() })
})
doc.on('update', (_update, origin) => {
  send({ event: 'update', remote: origin === provider })
})

// ---- helpers ------------------------------------------------------------------------------

const fail = (message) => {
  throw new Error(message)
}

const toYArray = (items) => {
  const arr = new Y.Array()
  if (items.length > 0) arr.push(items)
  return arr
}

const buildStroke = (stroke) => {
  const map = new Y.Map()
  // `map` is not integrated yet: only write to it (reading a preliminary type warns and lies).
  for (const [key, value] of Object.entries(stroke)) {
    map.set(key, key === 'points' && Array.isArray(value) ? toYArray(value) : value)
  }
  if (!Array.isArray(stroke.points)) map.set('points', new Y.Array())
  return map
}

const buildLayer = (props) => {
  const map = new Y.Map()
  for (const [key, value] of Object.entries(props)) {
    if (key === 'strokes' && Array.isArray(value)) {
      map.set(key, toYArray(value.map(buildStroke)))
    } else {
      map.set(key, value)
    }
  }
  return map
}

const findLayerIndex = (id) => {
  const arr = layers.toArray()
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i]
    if (item instanceof Y.Map && item.get('id') === id) return i
  }
  return -1
}

const getLayer = (id) => {
  const index = findLayerIndex(id)
  if (index < 0) fail(`no layer with id ${JSON.stringify(id)}`)
  return layers.get(index)
}

const getStrokes = (layer, create) => {
  let strokes = layer.get('strokes')
  if (!(strokes instanceof Y.Array)) {
    if (!create) fail(`layer ${JSON.stringify(layer.get('id'))} has no strokes array`)
    strokes = new Y.Array()
    layer.set('strokes', strokes)
  }
  return strokes
}

const getStroke = (layer, strokeId) => {
  const strokes = getStrokes(layer, false)
  for (const item of strokes.toArray()) {
    if (item instanceof Y.Map && item.get('id') === strokeId) return item
  }
  return fail(`no stroke with id ${JSON.stringify(strokeId)} in layer ${JSON.stringify(layer.get('id'))}`)
}

const b64 = (u8) => Buffer.from(u8).toString('base64')

const dump = () => ({
  meta: meta.toJSON(),
  layers: layers.toJSON(),
  history: history.toJSON()
})

const whenSynced = () => new Promise((resolve) => {
  if (provider.synced) {
    resolve()
    return
  }
  const handler = (synced) => {
    if (synced) {
      provider.off('sync', handler)
      resolve()
    }
  }
  provider.on('sync', handler)
})

// ---- commands -----------------------------------------------------------------------------

let quitting = false

const shutdown = (code) => {
  if (quitting) return
  quitting = true
  try {
    provider.destroy()
    doc.destroy()
  } catch (err) {
    log('error during shutdown:', err)
  }
  // stdout writes to a pipe are synchronous on POSIX, so everything sent so far is flushed.
  process.exit(code)
}

const handlers = {
  dump: () => ({ doc: dump() }),
  set_meta: ({ key, value }) => {
    if (typeof key !== 'string') fail('set_meta needs a string "key"')
    meta.set(key, value)
    return {}
  },
  add_layer: ({ layer }) => {
    if (layer === null || typeof layer !== 'object') fail('add_layer needs an object "layer"')
    layers.push([buildLayer(layer)])
    return { index: layers.length - 1 }
  },
  // The layer id travels in "layer": "id" is the command id of every request.
  set_layer: ({ layer, key, value }) => {
    if (typeof key !== 'string') fail('set_layer needs a string "key"')
    getLayer(layer).set(key, value)
    return {}
  },
  remove_layer: ({ layer }) => {
    const index = findLayerIndex(layer)
    if (index < 0) fail(`no layer with id ${JSON.stringify(layer)}`)
    layers.delete(index, 1)
    return { index }
  },
  add_stroke: ({ layer, stroke }) => {
    if (stroke === null || typeof stroke !== 'object') fail('add_stroke needs an object "stroke"')
    getStrokes(getLayer(layer), true).push([buildStroke(stroke)])
    return {}
  },
  append_points: ({ layer, stroke, points }) => {
    if (!Array.isArray(points)) fail('append_points needs an array "points"')
    const pts = getStroke(getLayer(layer), stroke).get('points')
    if (!(pts instanceof Y.Array)) fail(`stroke ${JSON.stringify(stroke)} has no points array`)
    if (points.length > 0) pts.push(points)
    return { length: pts.length }
  },
  push_history: ({ entry }) => {
    history.push([entry])
    return { length: history.length }
  },
  set_awareness: ({ state }) => {
    provider.awareness.setLocalState(state === undefined ? null : state)
    return {}
  },
  set_awareness_field: ({ key, value }) => {
    provider.awareness.setLocalStateField(key, value)
    return {}
  },
  awareness: () => ({ states: awarenessStates(), client_id: doc.clientID }),
  disconnect: () => {
    provider.disconnect()
    return {}
  },
  connect: () => {
    provider.connect()
    return {}
  },
  status: () => ({
    connected: provider.wsconnected,
    connecting: provider.wsconnecting,
    synced: provider.synced,
    should_connect: provider.shouldConnect,
    url: provider.url,
    client_id: doc.clientID
  }),
  state_vector: () => ({ state_vector: b64(Y.encodeStateVector(doc)) }),
  encode_state: () => ({ update: b64(Y.encodeStateAsUpdate(doc)) }),
  apply_update: ({ update }) => {
    if (typeof update !== 'string') fail('apply_update needs a base64 string "update"')
    Y.applyUpdate(doc, new Uint8Array(Buffer.from(update, 'base64')), 'apply_update')
    return {}
  },
  wait_synced: async () => {
    await whenSynced()
    return {}
  },
  quit: () => {
    // Answer first, then exit on the next tick.
    setImmediate(() => shutdown(0))
    return {}
  }
}

const handleLine = async (line) => {
  if (line.trim() === '') return
  let msg
  try {
    msg = JSON.parse(line)
  } catch (err) {
    send({ ok: false, id: null, error: `invalid JSON: ${err.message}` })
    return
  }
  const id = msg && typeof msg === 'object' && 'id' in msg ? msg.id : null
  const handler = msg && typeof msg.op === 'string' && Object.hasOwn(handlers, msg.op)
    ? handlers[msg.op]
    : null
  if (handler === null) {
    send({ ok: false, id, error: `unknown op ${JSON.stringify(msg && msg.op)}` })
    return
  }
  try {
    const result = await handler(msg)
    send({ ok: true, id, ...result })
  } catch (err) {
    send({ ok: false, id, error: err && err.message ? err.message : String(err) })
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false })
rl.on('line', (line) => {
  handleLine(line).catch((err) => log('unexpected error:', err))
})
rl.on('close', () => shutdown(0))

process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

send({ event: 'ready', client_id: doc.clientID, url: provider.url })
log(`started, connecting to ${provider.url}`)
