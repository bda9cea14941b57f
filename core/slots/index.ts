export type { Attention, AttentionInput } from './attention.ts';
export type { Architecture, ForwardContext, ForwardStat, ModelDims } from './context.ts';
export type { FeedForward, FeedForwardCost } from './feed-forward.ts';
export type { FinetuneMethod } from './finetune.ts';
export type { Norm } from './norm.ts';
export type { HostBatch, HostTensor, Objective, ObjectiveLoss } from './objective.ts';
export type { LocalStep, ParallelPlan, ParallelStrategy, StepResult } from './parallel.ts';
export type { LogitWindow, PositionalEncoding } from './positional.ts';
export type { Router, Routing } from './router.ts';
