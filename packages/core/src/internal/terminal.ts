/**
 * Lines kept at the bottom of a terminal (progress bars) and lines written above them (human
 * log lines). A log line written to a stream with a live overlay first erases the overlay, then
 * goes out, then the overlay is painted again below it, all in one write: the two never
 * interleave on screen.
 */
export interface Overlay {
  /** Text that erases what the overlay drew, leaving the cursor where its first line was. */
  erase(): string;
  /** Text that draws the overlay again from the cursor. */
  paint(): string;
}

const overlays = new Map<NodeJS.WritableStream, Set<Overlay>>();

/** Keeps `overlay` at the bottom of `out` until the returned function is called. */
export function addOverlay(out: NodeJS.WritableStream, overlay: Overlay): () => void {
  let set = overlays.get(out);
  if (set === undefined) overlays.set(out, (set = new Set()));
  set.add(overlay);
  return () => {
    set.delete(overlay);
    if (set.size === 0 && overlays.get(out) === set) overlays.delete(out);
  };
}

/** Writes `text` (whole lines) to `out`, above any overlay drawn there. */
export function writeAbove(out: NodeJS.WritableStream, text: string): void {
  const set = overlays.get(out);
  if (set === undefined || set.size === 0) {
    out.write(text);
    return;
  }
  const live = [...set];
  // The last overlay added is the lowest on screen: erase from the bottom up, paint top down.
  let erase = '';
  for (let i = live.length - 1; i >= 0; i--) erase += live[i]!.erase();
  out.write(erase + text + live.map((o) => o.paint()).join(''));
}
