// Formatting for people. Money arrives as decimal strings (or numbers) and is never computed in
// floating point here: we split the string and let Intl group the integer part.

const numberFmt = new Intl.NumberFormat("en-US");

export function formatCount(n: number | null | undefined): string {
  return numberFmt.format(n ?? 0);
}

/** "1234567.5" → "$1,234,567.50". Works on the decimal string, so no float rounding. */
export function formatMoney(amount: string | number | null | undefined, currency = "USD"): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const text = typeof amount === "number" ? amount.toFixed(2) : amount.trim();
  const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return text;
  const [, sign = "", intPart = "0", frac = ""] = m;
  const cents = (frac + "00").slice(0, 2);
  const grouped = BigInt(intPart || "0").toLocaleString("en-US");
  const symbol = new Intl.NumberFormat("en-US", { style: "currency", currency, currencyDisplay: "narrowSymbol" })
    .formatToParts(0)
    .find((p) => p.type === "currency")?.value ?? `${currency} `;
  return `${sign}${symbol}${grouped}.${cents}`;
}

/** Money as typed by a person: positive, at most 2 decimals. Returns the normalised string or an error. */
export function parseMoney(input: string): { value: string } | { error: string } {
  const t = input.trim().replace(/,/g, "");
  if (!t) return { error: "Enter an amount." };
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return { error: "Use a positive amount with at most 2 decimals, e.g. 2500.00." };
  if (/^0+(\.0+)?$/.test(t)) return { error: "The amount must be more than zero." };
  return { value: t };
}

const dateFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium" });
const dateTimeFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso: string | null | undefined): string {
  return iso ? dateFmt.format(new Date(iso)) : "—";
}

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTimeFmt.format(new Date(iso)) : "—";
}
