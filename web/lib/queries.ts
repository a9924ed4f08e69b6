'use client'

import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query'
import { apiRequest, type ApiError, type ApiMethod } from './api'
import { useToken } from './session'

/** A GET on the node's API, cached under its path and refreshed every `refreshMs`. */
export function useApiQuery<T> (path: string, refreshMs?: number, enabled = true): UseQueryResult<T, ApiError> {
  const token = useToken()
  return useQuery<T, ApiError>({
    queryKey: [path],
    queryFn: async () => await apiRequest<T>(token, 'GET', path),
    refetchInterval: refreshMs,
    enabled
  })
}

export interface ApiCall {
  method: ApiMethod
  path: string
  body?: unknown
}

/** A state-changing call; the listed paths are refetched once it succeeds. */
export function useApiMutation<TResult, TVars = void> (toCall: (vars: TVars) => ApiCall, refreshes: string[] = []) {
  const token = useToken()
  const queryClient = useQueryClient()
  return useMutation<TResult, ApiError, TVars>({
    mutationFn: async vars => {
      const call = toCall(vars)
      return await apiRequest<TResult>(token, call.method, call.path, call.body)
    },
    onSuccess: async () => {
      await Promise.all(refreshes.map(async path => { await queryClient.invalidateQueries({ queryKey: [path] }) }))
    }
  })
}
