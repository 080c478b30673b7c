// Reading Prometheus text (/metrics) in tests.

/** The value of one sample line (`name{labels} value`), or null when absent. */
export function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}
