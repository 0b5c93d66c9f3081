/**
 * The functions a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file) spent most self time in:
 * each sample's time goes to the function on top of the stack, summed by function and location.
 */

export interface Top {
  /** `name (file:line)`, with the file relative to the repository when it is in it. */
  fn: string;
  selfMs: number;
  /** Share of the samples that were not idle. */
  percent: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** How long the profile ran, and how much of it the process was not idle, in ms. */
export function busyTime(profile: CpuProfile): { busyMs: number; wallMs: number } {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  let wall = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    wall += us;
    if (!idle.has(id)) busy += us;
  });
  return { busyMs: Math.round(busy / 1000), wallMs: Math.round(wall / 1000) };
}

export function topSelfTime(profile: CpuProfile, count = 8, root = ''): Top[] {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    const file = frame.url.replace(/^file:\/\//, '').replace(root, '');
    const fn = file
      ? `${frame.functionName || '(anonymous)'} (${file}:${frame.lineNumber + 1})`
      : frame.functionName || '(anonymous)';
    self.set(fn, (self.get(fn) ?? 0) + us);
    total += us;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / total) * 1000) / 10 }));
}
