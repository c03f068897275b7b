/** True for IANA zone names this runtime knows (Asia/Shanghai, Europe/Berlin, UTC, …). */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
