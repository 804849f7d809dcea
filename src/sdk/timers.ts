/**
 * The SDK's timers never keep a Node process alive on their own: a process that is otherwise done
 * exits without closing the provider first (`unref` is a no-op where timers have none).
 * @module
 */
export function unref<T extends ReturnType<typeof setTimeout>>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
