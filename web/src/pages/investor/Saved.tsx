// /investor/saved: the pitches an investor saved for later, most recently saved first, paginated
// (page in the URL). NDA-protected details stay hidden here as everywhere; a pitch its owner has
// hidden since leaves the list.
import { useEffect } from "react";
import { Link } from "react-router";
import { errorMessage } from "../../api/client";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { formatDate } from "../../lib/format";
import { Alert, Button, ButtonLink, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import { useSaveToggle, useSavedPitches } from "../account/data";
import { Pager, useUrlPage } from "../shared/paging";
import s from "./investor.module.css";

export default function Saved() {
  const [page, setPage] = useUrlPage();
  const saved = useSavedPitches(page);
  useEffect(() => {
    document.title = "Saved pitches · Pitchey";
  }, []);
  return (
    <div className={s.page}>
      <PageHeader title="Saved pitches">
        <ButtonLink to="/browse" variant="secondary">
          Browse pitches
        </ButtonLink>
      </PageHeader>
      {saved.isPending ? (
        <Loading label="Loading your saved pitches…" />
      ) : saved.isError ? (
        <ErrorState error={saved.error} retry={() => void saved.refetch()} />
      ) : saved.data.items.length === 0 ? (
        <Empty>
          {page > 1 ? (
            <>
              Nothing on this page. <Link to="/investor/saved">Back to the first page</Link>
            </>
          ) : (
            <>
              Nothing saved yet. Open a pitch and choose <strong>Save for later</strong>;{" "}
              <Link to="/browse">browse pitches</Link> to start.
            </>
          )}
        </Empty>
      ) : (
        <>
          <PitchGrid label="Your saved pitches">
            {saved.data.items.map((item) => (
              <PitchGridItem key={item.pitch.id}>
                <PitchCard
                  pitch={item.pitch}
                  eyebrow={<span>Saved {formatDate(item.savedAt)}</span>}
                  footer={<Unsave pitchId={item.pitch.id} title={item.pitch.title} />}
                />
              </PitchGridItem>
            ))}
          </PitchGrid>
          <Pager pagination={saved.data.pagination} onPage={setPage} label="Saved pitch pages" busy={saved.isFetching} />
        </>
      )}
    </div>
  );
}

function Unsave({ pitchId, title }: { pitchId: number; title: string }) {
  const toggle = useSaveToggle(pitchId);
  return (
    <>
      <Button small variant="secondary" busy={toggle.isPending} aria-label={`Remove ${title} from saved`} onClick={() => toggle.mutate(false)}>
        Remove
      </Button>
      {toggle.isError && <Alert>{errorMessage(toggle.error)}</Alert>}
    </>
  );
}
