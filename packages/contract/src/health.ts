import { Type } from "typebox";

/** Liveness and readiness answers. */
export const Live = Type.Object({ status: Type.Literal("ok") });
export const Ready = Type.Object({ status: Type.Literal("ready") });
