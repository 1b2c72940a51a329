// A month of bookings as a calendar: seven columns on desktop (CSS grid, weeks from Monday), and on
// a phone only the days that have bookings, as a list. Each day is a list item named by its date and
// how many bookings it holds, so a screen reader hears the same as the grid shows. Dates are plain
// YYYY-MM-DD strings compared as text: no time zone can shift a booking by a day.
import { useState } from "react";
import { Button } from "../../ui";
import t from "./team.module.css";

export interface CalendarBooking {
  id: number;
  startDate: string;
  endDate: string;
  label: string;
  kind: string;
}

function iso(y: number, m: number, d: number): string {
  return `${y}-${String(m + 1).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

const monthFmt = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
const dayFmt = new Intl.DateTimeFormat("en-US", { weekday: "long", month: "long", day: "numeric", timeZone: "UTC" });
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The month to open on: the first booking from today on, else this month. */
export function initialMonth(bookings: readonly CalendarBooking[], today: string): { y: number; m: number } {
  const next = bookings.filter((b) => b.endDate >= today).sort((a, b) => a.startDate.localeCompare(b.startDate))[0];
  const base = next ? (next.startDate > today ? next.startDate : today) : today;
  return { y: Number(base.slice(0, 4)), m: Number(base.slice(5, 7)) - 1 };
}

export function AllocationCalendar({ bookings, today }: { bookings: readonly CalendarBooking[]; today: string }) {
  const [month, setMonth] = useState(() => initialMonth(bookings, today));
  const { y, m } = month;
  const days = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const lead = (new Date(Date.UTC(y, m, 1)).getUTCDay() + 6) % 7; // Monday first
  const title = monthFmt.format(new Date(Date.UTC(y, m, 1)));
  const shift = (by: number) => setMonth(({ y: yy, m: mm }) => ({ y: yy + Math.floor((mm + by) / 12), m: (((mm + by) % 12) + 12) % 12 }));
  const cells = Array.from({ length: days }, (_, i) => {
    const date = iso(y, m, i + 1);
    return { date, day: i + 1, items: bookings.filter((b) => b.startDate <= date && date <= b.endDate) };
  });
  const inMonth = cells.some((c) => c.items.length > 0);

  return (
    <section className={t.calendar} aria-labelledby="calendar-month">
      <div className={t.calendarHead}>
        <Button small variant="secondary" onClick={() => shift(-1)} aria-label="Previous month">
          ‹ Previous
        </Button>
        <h3 id="calendar-month" aria-live="polite">
          {title}
        </h3>
        <Button small variant="secondary" onClick={() => shift(1)} aria-label="Next month">
          Next ›
        </Button>
      </div>
      {!inMonth && <p className={t.calendarEmpty}>Nothing is booked in {title}.</p>}
      <div className={t.weekdays} aria-hidden="true">
        {WEEKDAYS.map((d) => (
          <span key={d}>{d}</span>
        ))}
      </div>
      <ol className={t.monthGrid} aria-label={`Bookings in ${title}`}>
        {cells.map((c) => (
          <li
            key={c.date}
            className={`${t.day} ${c.items.length ? t.dayBusy : ""} ${c.date === today ? t.today : ""}`}
            style={c.day === 1 ? { gridColumnStart: lead + 1 } : undefined}
            aria-label={`${dayFmt.format(new Date(`${c.date}T00:00:00Z`))}: ${c.items.length ? `${c.items.length} booking${c.items.length > 1 ? "s" : ""}` : "nothing booked"}`}
          >
            <span className={t.dayNumber} aria-hidden="true">
              <span className={t.dayName}>{dayFmt.format(new Date(`${c.date}T00:00:00Z`))}</span>
              <span className={t.dayDigit}>{c.day}</span>
            </span>
            {c.items.length > 0 && (
              <ul className={t.dayItems}>
                {c.items.map((b) => (
                  <li key={b.id} className={t[`kind_${b.kind}`] ?? t.kind_crew} title={b.label}>
                    {b.label}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
