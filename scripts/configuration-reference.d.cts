export declare const OUTPUT: string;

export declare const SERVICES: readonly { service: string; file: string; schema: string }[];

export interface DocumentedVariable {
  name: string;
  description: string;
  defaultValue: string;
  /** The source file of the schema that declares it. */
  file: string;
}

/** Per service, the variables its environment schema holds, as the schemas' sources declare and document them. */
export declare function variablesByService(): Record<string, DocumentedVariable[]>;

/** docs/configuration.md as it should be committed; rejects when a variable lacks a description or a default. */
export declare function configurationReference(): Promise<string>;
