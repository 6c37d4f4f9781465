import { describe, expect, it } from "vitest";
import { proposalAnnouncer } from "../src/governance.js";

type Announced = Parameters<ReturnType<typeof proposalAnnouncer>>[0];

const proposal = (status: string, approvers: string[], over: Partial<Announced> = {}): Announced =>
  ({
    id: 1,
    kind: "fee",
    value: { totalFeeBP: 800, operatorsFeeBP: 400, treasury: "0x3e40d73eb977dc6a537af587d48316fee66e9c8c" },
    changeHash: `0x${"ab".repeat(32)}`,
    reason: "r",
    author: "devnet dao1",
    status,
    approvals: approvers.map((memberId) => ({ memberId, signature: "0x", approvedAt: "t" })),
    quorum: 2,
    createdAt: "t",
    approvedAt: null,
    executableAt: status === "pending" ? null : "2026-01-01T00:01:30.000Z",
    executedAt: status === "executed" ? "2026-01-01T00:01:31.000Z" : null,
    executedBy: null,
    cancelledAt: null,
    cancelledBy: null,
    ...over,
  }) as Announced;

describe("devnet governance lines", () => {
  it("one line per proposal state, in order; a stale or repeated answer prints nothing", () => {
    const lines: string[] = [];
    const announce = proposalAnnouncer({ out: (l) => lines.push(l) });
    announce(proposal("pending", []));
    announce(proposal("pending", ["dao1"]));
    announce(proposal("pending", [])); // the poll's older answer, arriving late
    announce(proposal("approved", ["dao1", "dao2"]));
    announce(proposal("pending", ["dao1"]));
    announce(proposal("approved", ["dao1", "dao2"]));
    announce(proposal("executed", ["dao1", "dao2"]));
    announce(proposal("approved", ["dao1", "dao2"]));
    announce(proposal("pending", [], { id: 2, kind: "operator.add", value: { name: "x" } }));
    expect(lines.map((l) => l.replace(/ \{.*\}:/, ":"))).toEqual([
      "governance  proposal 1 fee: pending, 0/2 approvals",
      "governance  proposal 1 fee: pending, 1/2 approvals (dao1)",
      "governance  proposal 1 fee: approved by dao1, dao2, executable at 2026-01-01T00:01:30.000Z (the timelock)",
      "governance  proposal 1 fee: executed at 2026-01-01T00:01:31.000Z; the oracle's next frame uses it",
      "governance  proposal 2 operator.add: pending, 0/2 approvals",
    ]);
  });
});
