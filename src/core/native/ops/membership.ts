/** `in` / `notIn`: membership in `values`, a Set built once (O(1) for long lists). @module */
import type { NativeOperator } from "../types";
import { stringIds, type StringIds } from "../string-ids";
import type { Pred } from "../../runtime";

export const IN = "in",
  NOT_IN = "notIn";

const MAX_BITSET_IDS = 4096;

export const membershipOperator: NativeOperator = {
  names: [IN, NOT_IN],
  compile(op, values) {
    if (values.length === 0) return `${op} needs at least one value`;
    const set = new Set<unknown>(values);
    return op === IN ? (v) => set.has(v) : (v) => !set.has(v);
  },
  fused(op, values, attr, tables) {
    // NaN: Set membership (SameValueZero) finds it, `===` would not.
    if (op !== IN || values.some((v) => v === null || v === undefined || v !== v)) return undefined;
    // A handful of values: comparing beats hashing. Missing attributes (undefined/null) are in no list.
    const list = [...new Set<unknown>(values)];
    if (list.length === 1) {
      const a = list[0];
      return (ctx) => ctx[attr] === a;
    }
    if (list.length === 2) {
      const a = list[0],
        b = list[1];
      return (ctx) => {
        const v = ctx[attr];
        return v === a || v === b;
      };
    }
    if (list.length <= 4) {
      return (ctx) => {
        const v = ctx[attr];
        for (let i = 0; i < list.length; i++) if (list[i] === v) return true;
        return false;
      };
    }
    // Strings: a bitset over the attribute's string ids, while the ids stay few enough that
    // bitsets cost at most 512 bytes a list; long or many distinct lists keep the Set.
    if (list.length <= MAX_BITSET_IDS && list.every((v) => typeof v === "string")) {
      const ids = stringIds(tables, attr);
      if (ids.size + list.length <= MAX_BITSET_IDS) {
        const listed = (list as string[]).map((v) => ids.idOf(v));
        let max = 0;
        for (const id of listed) if (id > max) max = id;
        const bits = new Int32Array((max >> 5) + 1);
        for (const id of listed) bits[id >> 5]! |= 1 << (id & 31);
        return inBitset(attr, ids, bits);
      }
    }
    const set = new Set<unknown>(list);
    return (ctx) => set.has(ctx[attr]);
  },
};

/** Membership as one bit: ids the table assigned after this list was compiled lie past `bits`. */
function inBitset(attr: string, ids: StringIds, bits: Int32Array): Pred {
  const words = bits.length;
  return (ctx) => {
    const v = ctx[attr];
    if (typeof v !== "string") return false;
    const id = ids.lookup(v);
    return id >= 0 && id >> 5 < words && ((bits[id >> 5]! >>> (id & 31)) & 1) === 1;
  };
}
