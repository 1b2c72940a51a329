// The live client's public face. Pages use the hooks; the client class is here for tools and tests.
export type { ConnectionState, PresenceEntry, ServerFrame } from "./client";
export { LiveClient, LiveError, ticketUrl, wsUrl } from "./client";
export { LiveProvider, useConnectionState, useLive, usePresence, useRoom, useUserEvents } from "./hooks";
