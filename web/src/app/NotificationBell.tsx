// PLACEHOLDER: the bell (unread count, live) comes with the NDA/notification work.
export function NotificationBell() {
  return null;
}
