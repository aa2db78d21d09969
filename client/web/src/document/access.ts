/**
 * The server's `hello` notice (docs/protocol.md, "Notices"): the first frame of every connection,
 * message type 100 with a JSON body `{"type": "hello", "doc", "role", "user", "name"}`, which says
 * who this connection is on the document and whether it may edit.
 */
import * as decoding from "lib0/decoding";

/** y-websocket message type of Nexus commands and notices. */
export const MESSAGE_NEXUS = 100;

export type Role = "owner" | "editor" | "viewer";

export interface Access {
  readonly docId: string;
  readonly role: Role;
  /** the user id the server knows this connection by (an account id in token mode) */
  readonly userId: string;
  /** the display name */
  readonly name: string;
  /** the role cannot change the document (a viewer) */
  readonly readOnly: boolean;
}

const ROLES: readonly string[] = ["owner", "editor", "viewer"];

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** The access a hello body grants, or null when `body` is not a (well-formed) hello. */
export function parseHello(body: unknown): Access | null {
  if (typeof body !== "object" || body === null) return null;
  const { type, doc, role, user, name } = body as Record<string, unknown>;
  if (type !== "hello" || !nonEmpty(doc) || !nonEmpty(user) || !nonEmpty(name)) return null;
  if (typeof role !== "string" || !ROLES.includes(role)) return null;
  return { docId: doc, role: role as Role, userId: user, name, readOnly: role === "viewer" };
}

/** Read the JSON body of a type-100 frame whose type byte was read already; null if broken. */
export function readNexusMessage(decoder: decoding.Decoder): unknown {
  try {
    return JSON.parse(decoding.readVarString(decoder));
  } catch {
    return null;
  }
}
