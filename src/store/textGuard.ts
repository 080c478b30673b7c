// PostgreSQL cannot store U+0000 in text (error 22021 → it would surface as a 500), SQLite can. Both backends
// refuse it here instead, before the query runs, with a client error: the API answers 400, never 500, and a
// value accepted on SQLite is never one PostgreSQL would refuse. JSON columns are unaffected: JSON.stringify
// escapes U+0000 as the six characters \u0000.
import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';

/** statusCode 400: the API's error handler answers it as a client error. */
export class NulInTextError extends Error {
  readonly statusCode = 400;
  readonly code = 'text values must not contain the NUL character (U+0000)';
  constructor() {
    super('Invalid text');
  }
}

function check(v: unknown): void {
  if (typeof v === 'string' && v.includes('\u0000')) throw new NulInTextError();
}

class NulFinder extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    check(node.value);
    return node;
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    for (const v of node.values) check(v);
    return node;
  }
}

export class RejectNulText implements KyselyPlugin {
  private readonly finder = new NulFinder();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.finder.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
