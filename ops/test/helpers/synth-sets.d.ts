/** Types of synth-sets.js (plain JS: the jest global setup requires it too). */
export declare const SETS: Readonly<Record<'dev' | 'dev-scheduled' | 'scale', Record<string, Record<string, unknown>>>>;
export declare const SCHEDULE: { readonly timeZone: string; readonly days: string; readonly start: string; readonly stop: string };
export type SynthSet = 'dev' | 'dev-scheduled' | 'scale';
export declare function synthesizedSets<S extends SynthSet>(sets: S[]): Promise<{ dirs: Record<S, string>; cleanup: () => void }>;
