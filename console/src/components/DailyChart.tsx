/** Bars of automatic assignments per shop day, oldest left; plain SVG, no chart library needed. */
export function DailyChart({ days, label }: { days: { day: string; count: number }[]; label: string }) {
  const width = 720;
  const height = 160;
  const pad = 24;
  const max = Math.max(1, ...days.map((d) => d.count));
  const bar = (width - pad * 2) / Math.max(1, days.length);
  return (
    <svg
      role="img"
      aria-label={label}
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      style={{ maxWidth: width }}
      data-testid="daily-chart"
    >
      <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} stroke="#d9d9d9" />
      {days.map((d, i) => {
        const h = ((height - pad * 2) * d.count) / max;
        const x = pad + i * bar;
        return (
          <g key={d.day}>
            <title>{`${d.day}: ${d.count}`}</title>
            <rect x={x + 2} y={height - pad - h} width={Math.max(1, bar - 4)} height={h} fill="#1677ff" rx={2} />
            {d.count > 0 && (
              <text x={x + bar / 2} y={height - pad - h - 4} fontSize={10} textAnchor="middle" fill="#595959">
                {d.count}
              </text>
            )}
            {(i % 5 === 0 || i === days.length - 1) && (
              <text x={x + bar / 2} y={height - 6} fontSize={10} textAnchor="middle" fill="#8c8c8c">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
