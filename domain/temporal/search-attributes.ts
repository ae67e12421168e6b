/**
 * FarmIQ's custom search attributes, so an operator finds a workflow in the Temporal UI by farm,
 * barn, station or status (`FarmiqFarm = "farm-7" AND FarmiqStatus = "awaiting_images"`).
 *
 * A server must know them before a workflow may set them: the local dev server gets them from
 * infra/temporal/search-attributes.txt when it starts; for a production cluster run, once per
 * namespace, `temporal operator search-attribute create --namespace <ns> --name <Name> --type Keyword`
 * for each (docs/temporal.md). Keep the names here and in that file identical.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const farmiqTenant = defineSearchAttributeKey('FarmiqTenant', SearchAttributeType.KEYWORD);
export const farmiqFarm = defineSearchAttributeKey('FarmiqFarm', SearchAttributeType.KEYWORD);
export const farmiqBarn = defineSearchAttributeKey('FarmiqBarn', SearchAttributeType.KEYWORD);
export const farmiqStation = defineSearchAttributeKey('FarmiqStation', SearchAttributeType.KEYWORD);
/** An alarm's rule (alarms/): `FarmiqRule = "temp-high" AND FarmiqStatus = "raised"`. */
export const farmiqRule = defineSearchAttributeKey('FarmiqRule', SearchAttributeType.KEYWORD);
export const farmiqStatus = defineSearchAttributeKey('FarmiqStatus', SearchAttributeType.KEYWORD);

export const farmiqSearchAttributes = [farmiqTenant, farmiqFarm, farmiqBarn, farmiqStation, farmiqRule, farmiqStatus] as const;
