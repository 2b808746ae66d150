// Types for the TypeScript tests that import the browser module.
export interface SseMessage {
  event: string;
  data: string;
}
export declare function createSseParser(onMessage: (message: SseMessage) => void): { push(chunk: string): void };
