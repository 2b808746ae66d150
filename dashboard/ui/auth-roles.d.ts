export declare const ROLES: readonly ['viewer', 'maintenance', 'technician', 'admin'];
export declare const ROLE_LABELS: Readonly<Record<string, string>>;
export declare function roleAtLeast(role: string | null | undefined, min: string | null | undefined): boolean;
export declare function signInErrorMessage(status: number, retryAfterS: number | null): string;
