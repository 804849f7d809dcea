/**
 * Principals: the people behind admin tokens, which change requests count as reviewers.
 *
 * The bootstrap ADMIN_TOKEN is the principal "bootstrap". A token minted without an `owner` acts
 * on its minter's behalf and belongs to the minter's principal (transitively, so every token the
 * bootstrap token mints, and every token those mint, is "bootstrap" too). A token minted with
 * `owner: "alice"` belongs to the principal "alice": the minter vouches that it is for another
 * person, and the token list shows who minted it. A token's principal never changes.
 * @module
 */

/** A person's name or address as an owner: 1–100 characters, no spaces. */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$/;
