// Types for the TypeScript tests that import the browser module.
export declare const MAP_SIZE: number;
export declare function fitProjection(
  points: ReadonlyArray<{ lat: number; lon: number }>,
  padding?: number,
): { width: number; height: number; project(lat: number, lon: number): { x: number; y: number } };
export declare function levelColour(level: number | null): string;
