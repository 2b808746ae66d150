export declare const ROLES: readonly ['viewer', 'maintenance', 'technician', 'admin'];
export declare const ROLE_LABELS: Readonly<Record<string, string>>;
export declare const ACTION_ROLES: Readonly<Record<string, string>>;
export declare function roleAtLeast(role: string | null | undefined, min: string | null | undefined): boolean;
export declare function mayDo(role: string | null | undefined, action: string): boolean;
export declare function whoLabel(me: { name: string; role: string; kind: string }): string;
export declare function refusedMessage(how: 'fresh-token' | 'session' | 'token'): string;
export declare function unreachableMessage(detail: string, retryS: number | null): string;
export declare function signInErrorMessage(status: number, retryAfterS: number | null): string;
