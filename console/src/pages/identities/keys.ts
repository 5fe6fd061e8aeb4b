/** Every identity list query starts with this key; invalidate it after any change to an identity. */
export const IDENTITIES_KEY = ['identities'] as const;
